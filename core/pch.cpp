// Compiled once to build core/pch.h.
