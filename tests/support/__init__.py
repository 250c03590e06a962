"""Test support: stand-ins for the services Clauseflow talks to."""
