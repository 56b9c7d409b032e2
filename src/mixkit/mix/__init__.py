"""mixkit.mix"""
