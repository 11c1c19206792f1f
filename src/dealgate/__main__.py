"""`python -m dealgate`: Ctrl-C during the first imports exits 130 too, without a traceback."""

try:
    from dealgate.entry import main
except KeyboardInterrupt:
    raise SystemExit(130) from None

main()
