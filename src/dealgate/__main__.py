from dealgate.cli import main

main()
