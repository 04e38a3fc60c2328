from climb.cli import main

main()
