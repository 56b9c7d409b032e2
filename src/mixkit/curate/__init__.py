"""mixkit.curate"""
