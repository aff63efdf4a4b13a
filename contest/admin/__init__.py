from contest.admin.views import bp

__all__ = ["bp"]
