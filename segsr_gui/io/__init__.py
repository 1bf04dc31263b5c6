"""Files in and out: reading photos, encoding results, the one atomic writer, class masks."""
