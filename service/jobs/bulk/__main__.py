"""``python -m service.jobs.bulk``."""

from service.jobs.bulk.cli import main

raise SystemExit(main())
