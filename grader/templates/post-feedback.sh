#!/usr/bin/env bash
# Posts each student's feedback page as a comment on the feedback pull request of their repository.
# Written by `grader publish --grading-repo`. Usage: post-feedback.sh ROSTER PAGES
# PAGES is the folder of the students' Markdown pages (`grader import`/`grader export` write them).
set -euo pipefail
roster=$1 pages=$2
python -m grader grading students "$roster" --pages "$pages" | while IFS=$'\t' read -r id repository page; do
  number=$(gh pr list --repo "$repository" --state all --search "Feedback in:title" --json number --jq '.[0].number')
  if [ -z "$number" ] || [ ! -f "$page" ]; then
    echo "::warning::$id ($repository): no feedback pull request or no page"
    continue
  fi
  gh pr comment "$number" --repo "$repository" --body-file "$page" < /dev/null
done
