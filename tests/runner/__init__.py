"""Tests of grader.runner (a package, so that its conftest gets a module name of its own)."""
