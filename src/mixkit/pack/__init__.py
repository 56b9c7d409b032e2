"""mixkit.pack"""
