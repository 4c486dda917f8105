"""Placeholder: this plugin registers nothing until its implementation lands."""
