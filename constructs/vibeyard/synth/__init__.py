"""The synth pipeline: resolve config, render charts to files, publish ``dist/`` atomically."""
