"""``completion bash|zsh``: a shell completion script made from the command line's own parser, so it
never drifts from the commands and options there are.

    contiple-tui completion bash > /etc/bash_completion.d/contiple-tui
    eval "$(contiple-tui completion zsh)"      # in ~/.zshrc
"""

from __future__ import annotations

import argparse

# Options whose value is a path: the shell completes file names for them.
PATH_OPTIONS = ("--data-dir", "-o", "--output", "--token-file", "--stats-file", "--image", "--body-file")


def _positional_choices(parser: argparse.ArgumentParser) -> list[str]:
    return [
        str(c)
        for a in parser._actions
        if not a.option_strings and a.choices and a.nargs != 0
        for c in a.choices
        if not isinstance(a, argparse._SubParsersAction)
    ]


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [
        s
        for a in parser._actions
        for s in a.option_strings
        if s.startswith("--") and a.help != argparse.SUPPRESS
    ]


def _children(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _valued(parser: argparse.ArgumentParser) -> set[str]:
    """Options that take a value (the next word is not a command), across every parser."""
    found = {s for a in parser._actions if a.nargs != 0 for s in a.option_strings}
    for child in _children(parser).values():
        found |= _valued(child)
    return found


def _choices(parser: argparse.ArgumentParser) -> dict[str, list[str]]:
    """Options with a fixed set of values (--lang ko en, --view ...), across every parser."""
    found: dict[str, list[str]] = {}
    for action in parser._actions:
        if action.choices and action.option_strings and not isinstance(action, argparse._SubParsersAction):
            for option in action.option_strings:
                found[option] = [str(c) for c in action.choices]
    for child in _children(parser).values():
        found |= _choices(child)
    return found


def bash_script(parser: argparse.ArgumentParser, prog: str) -> str:
    commands = _children(parser)
    cases = []
    for name, command in commands.items():
        actions = _children(command)
        if actions:
            cases.append(f'        "{name} ") words="{" ".join(actions)} {" ".join(_options(command))}" ;;')
            for action_name, action in actions.items():
                cases.append(f'        "{name} {action_name}") words="{" ".join(_options(action))}" ;;')
        else:
            words = _positional_choices(command) + _options(command)
            cases.append(f'        "{name} "*) words="{" ".join(words)}" ;;')
    values = [
        f'        {option}) COMPREPLY=($(compgen -W "{" ".join(v)}" -- "$cur")); return ;;'
        for option, v in sorted(_choices(parser).items())
    ]
    function = "_" + prog.replace("-", "_")
    lines = [
        f"# {prog} completion for bash (and zsh through bashcompinit); made by `{prog} completion bash`.",
        f"{function}() {{",
        '    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
        '    local cmd="" sub="" w i words',
        '    case "$prev" in',
        f'        {"|".join(PATH_OPTIONS)}) COMPREPLY=($(compgen -f -- "$cur")); return ;;',
        *values,
        "    esac",
        "    for ((i = 1; i < COMP_CWORD; i++)); do",
        '        w="${COMP_WORDS[i]}"',
        f'        case "$w" in {"|".join(sorted(_valued(parser)))}) ((i++)); continue ;;',
        "            -*) continue ;;",
        "        esac",
        '        if [[ -z "$cmd" ]]; then cmd="$w"; elif [[ -z "$sub" ]]; then sub="$w"; fi',
        "    done",
        '    case "$cmd $sub" in',
        f'        " ") words="{" ".join(commands)} {" ".join(_options(parser))}" ;;',
        *cases,
        '        *) words="" ;;',
        "    esac",
        '    COMPREPLY=($(compgen -W "$words" -- "$cur"))',
        "}",
        f"complete -F {function} {prog}",
        "",
    ]
    return "\n".join(lines)


def zsh_script(parser: argparse.ArgumentParser, prog: str) -> str:
    return (
        f"# {prog} completion for zsh; made by `{prog} completion zsh`.\n"
        "autoload -U +X bashcompinit && bashcompinit\n" + bash_script(parser, prog)
    )
