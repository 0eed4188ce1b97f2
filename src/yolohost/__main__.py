from yolohost.cli import main

main()
