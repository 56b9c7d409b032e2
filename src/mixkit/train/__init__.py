"""mixkit.train"""
