"""`cnnex kernel install`: register this environment as the Jupyter kernel "Python 3 (cnnexercises)".

JupyterLab started from this environment finds the kernel right away. A Jupyter (or VS
Code) installed elsewhere finds it after `cnnex kernel install --user`. The kernel runs
this environment's interpreter with TensorFlow's C++ logs turned off before anything is
imported, so no log line reaches a cell whatever a notebook imports first.
"""

from __future__ import annotations

import sys

KERNEL_NAME = "cnnexercises"
DISPLAY_NAME = "Python 3 (cnnexercises)"
KERNEL_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3"}


def install(user: bool = False, prefix: str | None = None) -> str:
    """Write the kernel spec; return the folder it was written to.

    Args:
        user: into the user's Jupyter folder (seen by every Jupyter of this user) instead of
            this environment's.
        prefix: into `PREFIX/share/jupyter/kernels` (default: this environment, `sys.prefix`).
    """
    from ipykernel.kernelspec import install as install_kernelspec

    if not user and prefix is None:
        prefix = sys.prefix
    return install_kernelspec(
        user=user, prefix=None if user else prefix, kernel_name=KERNEL_NAME, display_name=DISPLAY_NAME, env=dict(KERNEL_ENV)
    )


def cmd_kernel(args) -> int:
    folder = install(user=args.user, prefix=args.prefix)
    print(f'Installed the Jupyter kernel "{DISPLAY_NAME}" ({sys.executable}) in {folder}')
    print("Choose it in JupyterLab, Jupyter Notebook or VS Code: Kernel -> Change Kernel.")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("kernel", help="register this environment as a Jupyter kernel")
    verbs = p.add_subparsers(dest="verb", required=True)
    q = verbs.add_parser("install", help=f'install the kernel "{DISPLAY_NAME}"')
    where = q.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="for every Jupyter of this user (Jupyter or VS Code installed elsewhere)")
    where.add_argument("--prefix", help="into PREFIX/share/jupyter/kernels (default: this environment)")
    q.set_defaults(func=cmd_kernel)
