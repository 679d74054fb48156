"""`digitaleo-fake-server campaign` and `report`: campaign events and report zips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from digitaleo_client.deposit import Media
from fake_server.cli import app
from fake_server.clock import SystemClock
from fake_server.reporting import CampaignError, Reporting
from fake_server.store import Store

_ROOT_HELP = "Root folder of the fake deposit, as given to `serve --root`."
_DAY_HELP = "Day in Europe/Paris, YYYY-MM-DD; default today by the system clock."


def _open_reporting(root: Path) -> Reporting:
    if not root.is_dir():
        typer.echo(
            f"error: fake deposit root {root} is not a folder; "
            f"start `digitaleo-fake-server serve --root {root}` first",
            err=True,
        )
        raise typer.Exit(code=2)
    return Reporting(root, Store.for_root(root), SystemClock())


@app.command()
def campaign(
    root: Annotated[Path, typer.Option("--root", help=_ROOT_HELP, file_okay=False)],
    name: Annotated[str, typer.Option("--name", help="Campaign name; any characters.")],
    campaign_id: Annotated[
        int | None,
        typer.Option("--id", min=1, help="Campaign id; default the next free one."),
    ] = None,
    media: Annotated[
        list[Media] | None,
        typer.Option("--media", help="Media the campaign used; repeat for several."),
    ] = None,
    opened: Annotated[
        int, typer.Option(min=0, help="Contacts who opened, per media.")
    ] = 0,
    clicked: Annotated[
        int, typer.Option(min=0, help="Contacts who clicked, per media.")
    ] = 0,
    optout: Annotated[
        int,
        typer.Option(
            min=0,
            help="Contacts who opted out, per media; the store opts them out of it.",
        ),
    ] = 0,
    day: Annotated[str | None, typer.Option("--day", help=_DAY_HELP)] = None,
) -> None:
    """Record a campaign's events for contacts of the fake deposit.

    Each media reaches the first contacts, by id, that have its means of
    contact and are not opted out of it. Prints the campaign as JSON.
    """
    reporting = _open_reporting(root)
    try:
        result = reporting.record_campaign(
            name,
            campaign_id=campaign_id,
            media=media or [Media.EMAIL],
            opened=opened,
            clicked=clicked,
            optout=optout,
            day=day,
        )
    except CampaignError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None
    finally:
        reporting.store.close()

    counts = [
        {"media": media_name, "event": event, "count": count}
        for (media_name, event), count in result.counts.items()
    ]
    document = {
        "id": result.id,
        "name": result.name,
        "day": result.day,
        "events": counts,
    }
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2))


@app.command()
def report(
    root: Annotated[Path, typer.Option("--root", help=_ROOT_HELP, file_okay=False)],
    day: Annotated[str | None, typer.Option("--day", help=_DAY_HELP)] = None,
) -> None:
    """Write the report zips of a day under reporting/, then remove days past retention.

    Prints the path of each zip, relative to the root.
    """
    reporting = _open_reporting(root)
    try:
        written = reporting.write_reports(day)
    except CampaignError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from None
    finally:
        reporting.store.close()
    for path in written:
        typer.echo(str(path.relative_to(root)))
