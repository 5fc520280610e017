"""Authoring tools: generate the learner's exercise files from the reference solutions."""
