from chiffon.cli import main

raise SystemExit(main())
