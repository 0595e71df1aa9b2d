from contiple_tui.cli import main

raise SystemExit(main())
