from autodiff.cli import main

main()
