from chiffon.launcher import main

raise SystemExit(main())
