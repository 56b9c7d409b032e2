"""mixkit.report"""
