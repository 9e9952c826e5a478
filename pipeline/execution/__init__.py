"""One execution: its run identity, the events its handlers are given, its attempt and the week it holds."""
