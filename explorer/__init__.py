"""Explorer: UI-free core over checkpoint folders (to come)."""
