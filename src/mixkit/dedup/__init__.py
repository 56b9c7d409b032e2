"""mixkit.dedup"""
