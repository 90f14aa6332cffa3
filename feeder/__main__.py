from feeder.cli import main

raise SystemExit(main())
