"""Tests of the sandbox claims processor."""
