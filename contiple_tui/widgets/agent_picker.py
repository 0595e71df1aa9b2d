"""A multi-select list of agents whose selection is shown by a symbol (☑/☐), not by colour alone —
Textual's SelectionList marks both states with the same glyph, told apart only by colour."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from contiple_tui.safe_text import clean
from contiple_tui.widgets.bindings import Localized


class AgentPicker(Localized, OptionList):
    BINDINGS = [Binding("space", "toggle", "key.select", id="agents.toggle")]

    class Changed(Message):
        """The picked agents changed (read them from ``selected``); replaces one waiting."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, AgentPicker.Changed)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.selected: list[int] = []  # in the order picked
        self._labels: dict[int, str] = {}

    def set_agents(self, agents: list[tuple[int, str]]) -> None:
        """(user id, label) pairs; the selection of agents still listed is kept."""
        highlighted = self.highlighted
        self._labels = dict(agents)
        self.selected = [a for a in self.selected if a in self._labels]
        self.clear_options()
        self.add_options([Option(self._prompt(agent_id), id=str(agent_id)) for agent_id, _ in agents])
        if agents:
            self.highlighted = min(highlighted or 0, len(agents) - 1)

    def _prompt(self, agent_id: int) -> Text:
        mark = "☑" if agent_id in self.selected else "☐"
        return Text(
            f"{mark} {clean(self._labels[agent_id], 200)}",
            no_wrap=True,
            overflow="ellipsis",
            style="bold" if agent_id in self.selected else "",
        )

    def toggle(self, agent_id: int) -> None:
        if agent_id in self.selected:
            self.selected.remove(agent_id)
        else:
            self.selected.append(agent_id)
        self.replace_option_prompt(str(agent_id), self._prompt(agent_id))
        self.post_message(self.Changed())

    def action_toggle(self) -> None:
        if self.highlighted is None:
            return
        option = self.get_option_at_index(self.highlighted)
        if option.id is not None:
            self.toggle(int(option.id))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.toggle(int(event.option.id))  # Enter or a click toggles too
