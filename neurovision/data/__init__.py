"""Image data sets, stimulus generators and neural data loaders."""
