"""climb.demo: the built-in demo corpus and the main job."""
