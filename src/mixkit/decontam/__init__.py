"""mixkit.decontam"""
