"""`python -m bench [--sizes 100000,1000000] [--databases sqlite,postgresql] [--pg-url URL]`: the deadline sweep;
`python -m bench rating [--messages 1000000] [--databases postgresql,sqlite]`: the monthly rating;
`python -m bench pages [--messages 1000000] [--databases postgresql,sqlite]`: pages served by gunicorn;
`python -m bench intake [--databases postgresql,sqlite] [--requests N] [--threads 8]`: Open311 POSTs under load."""
import sys

if sys.argv[1:2] == ["rating"]:
    from bench.rating import main
    sys.exit(main(sys.argv[2:]))
if sys.argv[1:2] == ["pages"]:
    from bench.pages import main
    sys.exit(main(sys.argv[2:]))
if sys.argv[1:2] == ["intake"]:
    from bench.intake import main
    sys.exit(main(sys.argv[2:]))

from bench.sweep import main  # noqa: E402

sys.exit(main())
