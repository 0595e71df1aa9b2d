"""The SMS template tree (2-1 템플릿 관리): two levels of categories, templates under the second.

A category not in use dims everything below it and says so in words, not by colour alone. Folds are
remembered when the tree is read again.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from contiple_tui.domain.sms_models import Category, Template
from contiple_tui.i18n import t
from contiple_tui.widgets.safe import cut

Key = tuple[str, int]  # ("cat", id) or ("tpl", id): what a tree node stands for


def _lay_out(tree: Tree) -> None:
    """Give freshly added nodes their line numbers now (Tree does it lazily, on idle), so that the
    cursor can be put on one of them at once (textual 8.2: the private ``_tree_lines`` builds them)."""
    tree._tree_lines  # noqa: B018


def category_label(cat: Category, parent: Category | None) -> Text:
    text = Text(cut(cat.name, 60), style="bold" if parent is None else "")
    if not cat.in_use:
        text.append(" " + t("st.mark.off"))
        text.stylize("dim")
    elif parent is not None and not parent.in_use:
        text.append(" " + t("st.mark.off_inherited"))
        text.stylize("dim")
    return text


def template_label(tpl: Template) -> Text:
    text = Text.assemble((f"{tpl.send_type} ", "italic"), cut(tpl.name, 60))
    if not tpl.in_use:
        text.append(" " + t("st.mark.off"))
        text.stylize("dim")
    elif not tpl.effective_in_use:
        text.append(" " + t("st.mark.off_inherited"))
        text.stylize("dim")
    return text


class TemplateTree(Tree[Key]):
    def __init__(self, label: str, **kwargs) -> None:
        super().__init__(label, **kwargs)
        self.show_root = False
        self.auto_expand = False  # Enter opens the editor; space folds
        self.guide_depth = 2
        self._collapsed: set[Key] = set()

    def show(self, tops: list[Category]) -> dict[Key, TreeNode[Key]]:
        """Rebuild the tree from ``tops``; returns its nodes by key, in order."""
        self.clear()
        nodes: dict[Key, TreeNode[Key]] = {}
        for top in tops:
            top_node = self.root.add(
                category_label(top, None),
                data=("cat", top.id),
                expand=("cat", top.id) not in self._collapsed,
                allow_expand=bool(top.children),
            )
            nodes[("cat", top.id)] = top_node
            for sub in top.children:
                sub_node = top_node.add(
                    category_label(sub, top),
                    data=("cat", sub.id),
                    expand=("cat", sub.id) not in self._collapsed,
                    allow_expand=bool(sub.templates),
                )
                nodes[("cat", sub.id)] = sub_node
                for tpl in sub.templates:
                    nodes[("tpl", tpl.id)] = sub_node.add_leaf(template_label(tpl), data=("tpl", tpl.id))
        return nodes

    def place_cursor(self, node: TreeNode[Key] | None) -> None:
        """Put the cursor on ``node`` (unfolding its parents) at once, without waiting for idle."""
        _lay_out(self)
        self.unselect()
        if node is not None:
            parent = node.parent
            while parent is not None and not parent.is_root:
                parent.expand()
                parent = parent.parent
            _lay_out(self)
            self.move_cursor(node)

    @property
    def cursor_key(self) -> Key | None:
        node = self.cursor_node
        return node.data if node is not None else None

    def walk(self, node: TreeNode[Key] | None = None):
        """Every node below ``node`` (the root by default), depth first."""
        for child in (self.root if node is None else node).children:
            yield child
            yield from self.walk(child)

    def move_to(self, key: Key | None) -> None:
        for node in self.walk():
            if node.data == key:
                self.move_cursor(node)
                return

    def neighbour(self, key: Key) -> Key | None:
        """Where the cursor goes when ``key`` is deleted: the node above it, or its parent."""
        for node in self.walk():
            if node.data == key:
                above = node.previous_sibling or (node.parent if not node.parent.is_root else None)
                return above.data if above is not None else None
        return None

    @on(Tree.NodeCollapsed)
    def _collapsed_node(self, event: Tree.NodeCollapsed) -> None:
        if event.node.data is not None:
            self._collapsed.add(event.node.data)

    @on(Tree.NodeExpanded)
    def _expanded_node(self, event: Tree.NodeExpanded) -> None:
        self._collapsed.discard(event.node.data)
