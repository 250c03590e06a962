"""The ops console: server-rendered pages for operators, with htmx as a progressive extra."""
