"""Speed and memory: whole-process runs against Real-ESRGAN x4plus, and what the person prior costs."""
