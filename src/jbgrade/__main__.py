from jbgrade.cli import main

main()
