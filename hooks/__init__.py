"""Cookiecutter hooks; a package so the template's tests can import their helpers."""
