"""``neurovision notebooks ACTION``: render, execute, strip or check the notebooks in notebooks/."""
from __future__ import annotations

from ._common import add_out, positive_float, positive_int


def register(sub) -> None:
    parser = sub.add_parser("notebooks", help="render, execute, strip or check the notebooks (notebooks extra)",
                            description="Notebooks are stored without outputs; `render` executes them headless "
                                        "and writes HTML pages and one screenshot each.")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    helps = {"render": "execute and write HTML pages and screenshots", "execute": "run, fail on the first cell error",
             "strip": "remove outputs in place", "check": "exit 1 if any notebook holds outputs"}
    for action, text in helps.items():
        p = actions.add_parser(action, help=text)
        p.add_argument("notebooks", nargs="*", help="notebook files or names in notebooks/ (default: every notebook)")
        if action in ("render", "execute"):
            p.add_argument("-p", "--param", action="append", default=None, metavar="NAME=VALUE",
                           help="override a parameter of the cell tagged `parameters` (repeatable)")
            p.add_argument("--budget", type=positive_float, default=900.0, help="seconds allowed per notebook")
            p.add_argument("--threads", type=positive_int, default=None, help="CPU threads for the kernel "
                           "(default: the machine's)")
        if action == "render":
            add_out(p, default="docs/notebooks", help="folder for the HTML pages")
            p.add_argument("--img", default="docs/img", help="folder for one screenshot PNG each")
        p.set_defaults(func=run)


def run(args) -> int:
    from .. import notebooks

    return notebooks.run(args)
