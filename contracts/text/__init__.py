"""Reading an agreement's own text: its outline and the quantities it states."""
