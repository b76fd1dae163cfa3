"""What an attacker's afternoon tried (issue 18), as a suite to read top to bottom.

One test per attack, named for the attack and asserting the safe outcome, on SQLite and on
Postgres wherever the database holds the defence (limits, ended sessions, handled updates):

- test_01_sessions: log-in guessing (in parallel, from many addresses), cookies after log-out
  or a password change, caching of admin answers;
- test_02_bodies: bodies that lie about their length, JSON built to crash a parser, texts built
  to flood the log;
- test_03_coupons: enumerating coupon codes;
- test_04_formats: values with a trailing newline;
- test_05_telegram: re-delivered updates, a design name that cannot exist.
"""
