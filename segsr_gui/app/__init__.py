"""The app's Qt-free services: the command line, the batch queue, export and the app's folders."""
