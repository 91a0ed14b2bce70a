"""`appointments sms`: the local SMS gateway simulator's phone: every text sent, and a reply typed back."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from services.common.config import settings

console = Console()


def simulator_url() -> str:
    """Where the local Notify simulator answers."""
    return f"http://127.0.0.1:{settings().port('simulator')}"


def sms(
    reply: Annotated[
        str | None, typer.Option("--reply", help="A text to send to the force, e.g. YES, CANCEL, MOVE or 4.")
    ] = None,
    sender: Annotated[
        str | None, typer.Option("--from", help="The phone the reply comes from (default: the last text's).")
    ] = None,
    last: Annotated[int, typer.Option(help="How many of the latest texts to show.")] = 20,
) -> None:
    """Show the texts the local gateway simulator has sent; with --reply, answer one as its phone would."""
    try:
        with httpx.Client(base_url=simulator_url(), timeout=10) as client:
            texts: list[dict[str, Any]] = client.get("/texts").json()
            if reply is not None:
                phone = sender or (texts[-1]["to"] if texts else None)
                if phone is None:
                    console.print(
                        "No text has been sent yet: say which phone replies with --from.", style="red"
                    )
                    raise typer.Exit(1)
                answer = client.post("/texts/replies", json={"to_force_from": phone, "message": reply})
                if answer.status_code != 202:
                    console.print(
                        f"The simulator refused the reply: {answer.text}", style="red", markup=False
                    )
                    raise typer.Exit(1)
                console.print(f"Replied {reply!r} from {phone}.")
                return
    except httpx.HTTPError as exc:
        console.print(f"The SMS simulator does not answer at {simulator_url()} ({type(exc).__name__}); "
                      "is the stack up (`appointments up`)?", style="red")  # fmt: skip
        raise typer.Exit(1) from exc
    table = Table(title=f"Texts sent through the local gateway ({simulator_url()})")
    for column in ("sent (UTC)", "to", "status", "text", "replies"):
        table.add_column(column, overflow="fold")
    for text in texts[-last:]:
        table.add_row(
            text["created_at"][:19].replace("T", " "), text["to"], text["status"], text["body"],
            "\n".join(text["replies"]),
        )  # fmt: skip
    console.print(table)
