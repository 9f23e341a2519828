from autodiff.entry import main

main()
