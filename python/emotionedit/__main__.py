from .process import command

raise SystemExit(command())
