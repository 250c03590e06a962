"""Pure contract domain: term sheets, the deadline calendar and money arithmetic. No I/O."""
