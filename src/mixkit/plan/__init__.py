"""mixkit.plan"""
