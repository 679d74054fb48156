"""`digitaleo convert`: write the deposit parts of a contact export, without uploading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from digitaleo_client.cli import app
from digitaleo_client.cli.check import (
    INPUT_PANEL,
    ReadingOptions,
    RejectsOption,
    finish,
    load_account,
    require_input_file,
    row_progress,
    with_reading_options,
)
from digitaleo_client.cli.common import (
    CommonOptions,
    command_errors,
    with_output_options,
)
from digitaleo_client.contacts.convert import build_deposit
from digitaleo_client.deposit import list_name_of

ZipOption = Annotated[
    str,
    typer.Option(
        "--zip",
        help="Zip the parts: 'auto' (only when the file needs more than one "
        "20,000,000-byte CSV part), 'always' or 'never'. A part that would be "
        "over 20,000,000 bytes zipped is written as CSV.",
        rich_help_panel=INPUT_PANEL,
    ),
]


@app.command()
@with_output_options
@with_reading_options
def convert(
    common: CommonOptions,
    reading: ReadingOptions,
    file: Annotated[Path, typer.Argument(help="CRM export to convert (CSV).")],
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Folder that receives the parts and NAME.report.json."
        ),
    ],
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            help="Name of the parts, and so of the list they feed; default: FILE's name.",
        ),
    ] = None,
    zip: ZipOption = "auto",
    rejects: RejectsOption = None,
) -> None:
    """Convert FILE into deposit parts (ISO-8859-1, at most 20,000,000 bytes each) in --out.

    Rejected contacts stay out of the parts. The parts are NAME.csv, then
    NAME.part2.csv and so on (or .zip), to deposit in that order. The full
    report goes to NAME.report.json beside them. Exit code 6 when the file
    cannot be read or more than --max-invalid percent of rows are rejected.
    """
    with command_errors(common):
        require_input_file(file)
        settings, origin = load_account(reading.account)
        options = reading.convert_options(zip=zip, base_name=name)
        with row_progress(common, file) as progress:
            report = build_deposit(file, out, settings, options, progress, origin)
        report_path = out / f"{list_name_of(name or file.name)}.report.json"
        report_path.write_text(
            json.dumps(report.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8"
        )
        finish(common, report, rejects, reading.max_invalid)
