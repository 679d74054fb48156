"""Where the option values of a command came from: flag, environment or default.

The command's context records it for every parameter
(`Context.get_parameter_source`), which tells a value typed on the command
line or read from a `DIGITALEO_*` variable apart from a default that a
profile may override.
"""

from __future__ import annotations

import typer

# Names of click's ParameterSource members; typer vendors click privately,
# so the members are compared by name.
_COMMAND_LINE = "COMMANDLINE"
_ENVIRONMENT = "ENVIRONMENT"


def given_sources(context: typer.Context) -> dict[str, str]:
    """Return where each option of the command was given, when not left at its default.

    The source is the option's flag (such as "--url") for a value from the
    command line, or its variable (such as "DIGITALEO_URL") for one from the
    environment. Options left at their default are absent.
    """
    sources = {}
    for parameter in context.command.params:
        if parameter.name is None:
            continue
        source = context.get_parameter_source(parameter.name)
        kind = source.name if source is not None else None
        if kind == _COMMAND_LINE:
            sources[parameter.name] = parameter.opts[0]
        elif kind == _ENVIRONMENT:
            variable = parameter.envvar
            sources[parameter.name] = (
                variable
                if isinstance(variable, str)
                else f"the variable of {parameter.opts[0]}"
            )
    return sources
