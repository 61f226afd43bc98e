"""Live connections on this node, whatever protocol they speak."""
