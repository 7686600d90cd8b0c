"""GitHub as a code host (``ports.Host``): pull requests, reviews, check runs.

client.py   the REST and GraphQL endpoints (with retry.py, the only importers of PyGithub)
values.py   what the endpoints answer, as frozen values
fetch.py    a pull request as a ChangeSet (the API's diff, git's on 406); the interdiff
render.py   GitHub's suggestion blocks, the run's marker, the body limit (the rest: hosts/bodies.py)
review.py   the positions and bodies ``hosts/placement`` plans with; the review's body; the dry run
checks.py   the check run and its annotations, workflow commands, the job summary
post.py     posting one Result on one pull request
host.py     GitHubHost, the ``ports.Host`` of one repository
service.py  GitHubServiceHost, the ``ports.ServiceHost`` of one repository; App installations
"""
