"""The jobs face: the Goana API dialect over core users, groups and translations."""
